img: https://fernhill.example/uploads/2025/coast-walk-banner.jpg
Coast walk, part three: ferns of the cliffs
On the cliffs beyond Carnforth the ferns change: sea spleenwort in the cracks, wall-rue on the old lime kilns.
img: https://fernhill.example/uploads/2025/fern-sketch.jpg
This was the leg I had been waiting for, and it did not disappoint, even in the drizzle.
