# Copyright (c) glore_mm contributors. All rights reserved.
