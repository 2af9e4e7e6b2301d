img: https://fernhill.example/uploads/2025/coast-walk-banner.jpg
Coast walk, part one: Arnside to Silverdale
The first leg of the coast walk is short and flat, across the salt marsh at low tide and over the limestone to Silverdale.
Check the tide tables before you set out. The bore comes in faster than a person can run.
