The Gulbenkian museum reopens on Saturday after an eighteen-month renovation that has doubled the space given to its modern collection.
Entry will be free on the first weekend. From then on, tickets cost 14 euros, or 7 euros for residents of the city.
