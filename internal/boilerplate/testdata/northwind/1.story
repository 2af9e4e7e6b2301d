img: https://northwind.example/media/2025/05/kessel-ferry.jpg
The ferry Marta at Kessel pier on Tuesday morning.
The last ferry between Kessel and the Brannoch islands will stop running at the end of the summer, the county council confirmed on Tuesday, ending a service that has crossed the sound since 1952.
Councillors voted seven to four to withdraw the subsidy that has kept the Marta afloat for the past decade. The operator, Sound Lines, said it could not run the route without it.
Islanders packed the public gallery for the vote. “We were told this was a lifeline,” said Agnes Morrow, who runs the post office on Brannoch Mor. “Now the line is being cut.”
The council said a new bridge study would be published in the autumn.
