"""The command families of the smasim command line: thin wrappers, one library call each."""
