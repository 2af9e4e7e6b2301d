img: https://northwind.example/media/2025/04/school.jpg
Pupils outside Brannoch primary school.
Brannoch primary school will stay open for at least three more years after the education committee reversed its plan to close it, by a single vote.
The school has eleven pupils. Closing it would have meant a daily crossing to Kessel for children as young as five.
Parents cheered in the chamber. The head teacher, Morag Lindsay, said she would now recruit a second teacher.
Read the committee’s decision (PDF)
