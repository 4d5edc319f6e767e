-- One decision for a whole stack of limits: evaluate every level, then charge all of them only
-- if all admit. A rejection writes nothing.
--
-- KEYS[i]  the state of level i (all keys share one hash tag, so one cluster slot)
-- ARGV[1]  cost (0 = look without charging)
-- ARGV[2]  clock override in microseconds, '' in production (then Redis TIME is the clock)
-- ARGV[3 + 3(i-1) ..]  per level:
--   'g', emission interval T (us), capacity (requests)     GCRA: the value is the theoretical
--                                                          arrival time (TAT, us)
--   'c', limit (requests), period (ms)                     calendar window aligned to the Unix
--                                                          epoch: the value is "<window ms>:<count>"
--
-- Reply: { binding level (0 = admitted), retry after (us), then per level remaining, reset (us):
--          after the charge when admitted, as they were when rejected }
--
-- Numbers are doubles in Redis's Lua: every value here is an integer below 2^53 (microseconds
-- since 1970 are about 1.8e15), so sums and comparisons are exact; values are written with
-- '%.0f' because Redis would otherwise stringify them with 14 significant digits.

local cost = tonumber(ARGV[1])
local now
if ARGV[2] ~= '' then
  now = tonumber(ARGV[2])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local now_ms = math.floor(now / 1000)
-- keys outlive their meaning by this much: a key read just after it stopped mattering holds
-- the same answer as a missing one, and the slack keeps clock overrides in tests honest
local SLACK_MS = 1000

local stored = redis.call('MGET', unpack(KEYS))
local writes = {}
-- each level's state as it is (reported when the stack rejects: nothing was charged) and as it
-- would be after the charge (reported when the stack admits): remaining, reset
local as_is, charged = {}, {}
local binding, binding_retry = 0, -1

for i = 1, #KEYS do
  local base = 3 + 3 * (i - 1)
  local algorithm = ARGV[base]
  local retry
  if algorithm == 'g' then
    local interval, capacity = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
    local horizon = interval * capacity
    local tat = tonumber(stored[i] or '0') or 0
    if tat < now then tat = now end
    local new_tat = tat + cost * interval
    as_is[2 * i - 1], as_is[2 * i] = math.floor((horizon - (tat - now)) / interval), tat - now
    charged[2 * i - 1], charged[2 * i] = math.floor((horizon - (new_tat - now)) / interval), new_tat - now
    if new_tat - now > horizon then
      retry = new_tat - now - horizon
    elseif cost > 0 then
      writes[#writes + 1] = i
      writes[#writes + 1] = string.format('%.0f', new_tat)
      writes[#writes + 1] = math.ceil((new_tat - now) / 1000) + SLACK_MS
    end
  else
    local limit, period = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
    local window = now_ms - (now_ms % period)
    if window > now_ms then window = window - period end
    local count = 0
    if stored[i] then
      local w, c = string.match(stored[i], '^(%d+):(%d+)$')
      if w and tonumber(w) == window then count = tonumber(c) end
    end
    local left_ms = window + period - now_ms
    as_is[2 * i - 1], as_is[2 * i] = limit - count, left_ms * 1000
    charged[2 * i - 1], charged[2 * i] = limit - count - cost, left_ms * 1000
    if count + cost > limit then
      retry = left_ms * 1000
    elseif cost > 0 then
      writes[#writes + 1] = i
      writes[#writes + 1] = string.format('%.0f:%.0f', window, count + cost)
      writes[#writes + 1] = left_ms + SLACK_MS
    end
  end
  if retry and retry > binding_retry then
    binding, binding_retry = i, retry
  end
end

local reply, report = { 0, 0 }, charged
if binding == 0 then
  for w = 1, #writes, 3 do
    redis.call('SET', KEYS[writes[w]], writes[w + 1], 'PX', writes[w + 2])
  end
else
  reply[1], reply[2], report = binding, binding_retry, as_is
end
for j = 1, 2 * #KEYS, 2 do
  local remaining = report[j]
  if remaining < 0 then remaining = 0 end
  reply[j + 2] = remaining
  reply[j + 3] = report[j + 1]
end
return reply
