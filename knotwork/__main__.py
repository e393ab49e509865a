from knotwork.cli import main
import sys

sys.exit(main())
