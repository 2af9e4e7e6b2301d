The city council will charge cruise passengers a tax of two euros each from January, joining Amsterdam and Venice in trying to make day visitors pay towards the city’s upkeep.
About 600,000 passengers came ashore in Lisbon last year.
The cruise lines’ association called the tax “a penalty on the visitors who spend the most”. Hoteliers, who already collect a tourist tax, welcomed it.
The council’s proposal
