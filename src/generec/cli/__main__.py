from generec.cli import main

main()
