Bracken on the north slope
The bracken on the north slope has turned early this year, a rust-brown tide creeping down towards the stream by the end of August.
Old Tam, who has cut it for bedding since the seventies, says a dry July does that. He is usually right about these things.
