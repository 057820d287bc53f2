"""Start one wake of IoT Porter on the MagTag; every path ends in deep sleep."""

from hw_board import main

main()
