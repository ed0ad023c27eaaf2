"""Reading, checking and writing the videos and images that generec works on."""
