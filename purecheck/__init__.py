"""purecheck: command-line tool and report renderer on top of ``numerics`` and the results files."""
