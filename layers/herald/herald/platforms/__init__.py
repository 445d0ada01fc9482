"""One publisher per platform behind `herald.platforms.base.Publisher`."""
