from siocli.cli import main

main()
