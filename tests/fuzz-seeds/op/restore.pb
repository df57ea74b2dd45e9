
b0ard_1oP0x3c2 2s9Kq18Ç‹Ï“≠3Bgw-1