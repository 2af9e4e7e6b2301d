Tuk-tuks will be banned from six streets of the old town from July and must switch to electric motors by 2027, under rules approved on Wednesday.
Drivers protested outside the town hall. “We have loans on these vehicles,” said Paulo Reis, who runs a fleet of nine.
The council said it would offer grants of up to 5,000 euros for the conversion.
