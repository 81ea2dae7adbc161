-- wrk script: GET <PREFIX><random code>/ for codes read from CODES_FILE.
local codes = {}
for line in io.lines(os.getenv("CODES_FILE")) do
  if #line > 0 then codes[#codes + 1] = line end
end
local prefix = os.getenv("URL_PREFIX")
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  return wrk.format("GET", prefix .. codes[math.random(#codes)] .. "/")
end
