The spring that never dries
Below the chapel there is a spring that has never been known to run dry, not even in the drought of 1976.
The water is hard and cold and tastes faintly of iron. Walkers fill their bottles there; I would boil it first.
