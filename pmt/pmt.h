/* pmt.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define PMT_INSIDE

#include <gio/gio.h>

#include "pmt-version-macros.h"
#include "pmt-version.h"
#include "pmt-types.h"
#include "pmt-enums.h"
#include "pmt-error.h"
#include "pmt-command-task.h"
#include "pmt-completion-queue.h"
#include "pmt-limiter.h"
#include "pmt-pool.h"
#include "pmt-task.h"
#include "pmt-threaded.h"
#include "pmt-worker.h"

#undef PMT_INSIDE
