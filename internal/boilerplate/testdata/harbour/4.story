Rents in the Alfama have risen by a third in two years, according to figures from the national statistics institute, the fastest rise of any neighbourhood in the country.
img: https://harbour.example/media/2025/03/alfama-rooftops.jpg
The median rent for a two-bedroom flat reached 1,450 euros a month in March.
Tenants’ groups blame short-term lets, which make up one in four homes in the district.
Alfama: up 33%
Mouraria: up 27%
Graça: up 21%
