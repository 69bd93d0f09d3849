// placeholder until this module lands; removed by its author
