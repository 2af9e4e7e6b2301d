img: https://fernhill.example/uploads/2025/coast-walk-banner.jpg
Coast walk, part two: Silverdale to Carnforth
From Silverdale the path leaves the shore for the woods of Eaves Wood, where the ash is dying back.
The last mile into Carnforth follows the railway, which is less romantic than the guidebooks make it sound.
