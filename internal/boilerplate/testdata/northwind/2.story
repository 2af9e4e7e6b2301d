Brannoch islanders have launched a petition to save the Marta, the ferry the county council voted last week to withdraw, and say they will take the fight to the Scottish Parliament if they must.
More than 3,100 people had signed by Sunday evening, more than twice the population of the three islands.
“We were told this was a lifeline,” said Agnes Morrow, who runs the post office on Brannoch Mor. “Now the line is being cut.”
The campaign’s organisers have asked Sound Lines to publish the running costs of the route. The company said it would consider the request.
A public meeting is planned for Thursday at the Brannoch Mor community hall.
