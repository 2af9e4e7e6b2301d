img: https://northwind.example/media/2025/05/dredger.jpg
A dredger moored in Kessel harbour.
Dredging of Kessel harbour will begin on 2 June and last eleven weeks, the port authority said, closing the inner basin to boats longer than twelve metres.
The work will remove about 40,000 tonnes of silt that has built up since the last dredge in 2011. Fishing boats will use the north quay while it lasts.
Skippers said they had been asking for the work for years. “At low water you can almost walk across,” one said.
