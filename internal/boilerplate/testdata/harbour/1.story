Lisbon’s tram 28 will run again from Monday after a three-week closure for track repairs in the Alfama, the city’s transport company said.
The line, the most crowded in the city, carries about 20,000 passengers a day in summer, most of them visitors.
Residents of the Alfama have long asked for a separate service for locals. The company said a trial would begin in the autumn.
