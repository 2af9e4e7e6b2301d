Counting hart's-tongue ferns
I spent Sunday counting hart's-tongue ferns along the lane wall: forty-one, up from twenty-six when I started this blog.
img: https://fernhill.example/uploads/2025/fern-sketch.jpg
They like the lime in the old mortar. Where the wall was repointed with cement two winters ago there are none at all.
