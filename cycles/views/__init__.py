"""Views of the cycles app, one module per screen family. Every view authorises first through cycles.access."""
