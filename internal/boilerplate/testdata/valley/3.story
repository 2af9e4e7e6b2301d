img: https://valleyvoice.example/photos/old-mill.jpg
The cider fair will move this year from the school field to the old mill at Arlen, which the valley trust finished restoring in March.
Organisers expect about 2,000 visitors over the weekend of 20 September. Parking will be at the station, with a shuttle bus every twenty minutes.
Twelve cider makers have signed up, three of them from across the border.
