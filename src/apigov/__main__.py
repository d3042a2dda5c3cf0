from apigov.cli.app import main

main()
