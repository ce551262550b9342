from slotail.cli import main

main()
