Prices at the Kessel fish market reached their highest level in five years this week, as a cold spring kept much of the fleet in harbour.
Langoustine sold for an average of £14.20 a kilo on Wednesday, against £9.80 a year ago. Buyers from two Spanish firms did not bid at all.
It is good for the boats that went out, and terrible for the ones that could not.
The market’s manager, Ruaridh Bell, expects prices to fall back once the weather turns.
Langoustine: £14.20 a kilo
Haddock: £3.10 a kilo
Monkfish: £8.45 a kilo
