img: https://valleyvoice.example/photos/bee-hives.jpg
Volunteers counted 41 wild bee species in the valley this spring, nine more than in the first count five years ago.
The biggest gains were on the slopes where farmers have left strips of meadow unmown since 2021.
The full count (PDF)
