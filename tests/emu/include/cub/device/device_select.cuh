// Emulator stand-in (see emu_cub.h).
#pragma once
#include "cub/emu_cub.h"
