img: https://fernhill.example/uploads/2025/coast-walk-banner.jpg
Coast walk, part four: home by train
The walk ends where it began, by train along the estuary viaduct, the marsh silver under a low sun.
Four days, thirty-eight miles, and more ferns than I had names for. Next year: the Cumbrian side.
