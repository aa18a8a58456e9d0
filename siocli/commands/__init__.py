"""The commands besides ``decode``, one module each, imported only when run or listed
(:class:`siocli.cli.LazyGroup`): their options cost start-up time that ``siocli decode``
should not pay."""
