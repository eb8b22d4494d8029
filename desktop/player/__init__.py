"""The player: VLC playback in a Qt surface, frame-exact transport, marks and the timeline."""
