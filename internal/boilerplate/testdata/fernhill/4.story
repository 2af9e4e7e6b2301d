Royal fern, at last
After three summers of looking I finally found royal fern, a single clump in the wet ground above the mill pond.
img: https://fernhill.example/uploads/2025/fern-sketch.jpg
It is taller than I am. I will not say exactly where: it was dug up for gardens once and very nearly lost.
