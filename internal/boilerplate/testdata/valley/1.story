img: https://valleyvoice.example/photos/orchard-frost.jpg
A late frost on the night of 14 May destroyed up to half of the apple blossom in the upper valley, growers said this week, the worst damage since 1991.
Orchards above 300 metres were hit hardest. Below the village of Arlen, where the fog lay, most trees escaped.
The growers’ co-operative has asked the regional government for emergency help. “Some families will have no harvest at all,” said its chair, Lena Vogt.
