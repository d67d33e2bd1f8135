from ewallet.cli import main

raise SystemExit(main())
