Firefighters brought a blaze under control in a warehouse at the Alcântara docks early on Friday. No one was hurt.
The fire started shortly after 3 a.m. in a store of cork bales and sent smoke over the 25 de Abril bridge, which was closed for an hour.
The port authority said shipping was not affected.
