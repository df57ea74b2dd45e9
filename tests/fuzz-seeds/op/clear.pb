
b0ard_1oP0x4c2 8É‹Ï“≠3Bgw-1