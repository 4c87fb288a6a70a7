// Stand-in for the platform header: the CPU executor force-includes its emulation of everything it declares.
#pragma once
