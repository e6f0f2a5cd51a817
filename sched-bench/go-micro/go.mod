module weft.invalid/gomicro

go 1.22
