"""The sample programme (from the seed slides) and a filler that behaves like a department."""
