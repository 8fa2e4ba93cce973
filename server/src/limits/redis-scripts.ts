// Lua run inside Redis, so every check for one request is atomic across replicas. The rules mirror
// memory-state.ts and windows.ts; keep the two in step. Specs arrive as JSON in ARGV[1] with 1-based
// indexes into KEYS (all keys are declared, as EVALSHA requires).

/**
 * Admit. spec: { now (0: use Redis TIME), id, dry, est, max (-1: price unknown), lease, rttl,
 *   req: [[key, limit]], tok: [[key, limit, windowMs, bucketMs]], conc: [[key, limit]],
 *   res: [[hashKey, zsetKey]], bud: [[key, limitMicros, endsAt (-1: never), resIndex]] }
 * Returns {1, {missing budget indexes}} when a window counter must be seeded first (nothing changed), else
 * {0, now, failKind (0 none, 1 requests, 2 tokens, 3 concurrency, 4 budget), failIndex (0-based),
 *   retryMs (-1 never, -2 none), {{used, resetMs}}, {{used, resetMs}}, {used}, {{spent, reserved}}}.
 * Only expired entries are pruned before the decision; counts change only when everything fits.
 */
export const ADMIT_LUA = `
local s = cjson.decode(ARGV[1])
local now = s.now
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local RW = 60000
local INFLIGHT = 1000

local missing = {}
for i, b in ipairs(s.bud) do
  if redis.call('EXISTS', KEYS[b[1]]) == 0 then missing[#missing + 1] = i - 1 end
end
if #missing > 0 then return {1, missing} end

local failKind, failIdx, failRetry = 0, -1, -2
local function fail(kind, idx, retry)
  local longer
  if failKind == 0 then longer = true
  elseif failRetry == -1 then longer = false
  elseif retry == -1 then longer = true
  else longer = retry > failRetry end
  if longer then failKind, failIdx, failRetry = kind, idx, retry end
end

local req = {}
for i, c in ipairs(s.req) do
  local k, limit = KEYS[c[1]], c[2]
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - RW)
  local used = redis.call('ZCARD', k)
  local reset = 0
  if used > 0 then
    local newest = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
    reset = tonumber(newest[2]) + RW - now
  end
  req[i] = {used, reset}
  if used + 1 > limit then
    if limit <= 0 then fail(1, i - 1, -1)
    else
      local e = redis.call('ZRANGE', k, used - limit, used - limit, 'WITHSCORES')
      fail(1, i - 1, tonumber(e[2]) + RW - now)
    end
  end
end

local tok = {}
for i, c in ipairs(s.tok) do
  local k, limit, w, b = KEYS[c[1]], c[2], c[3], c[4]
  local n = w / b
  local oldest = math.floor(now / b) - n
  local flat = redis.call('HGETALL', k)
  local buckets, used = {}, 0
  for j = 1, #flat, 2 do
    local id, v = tonumber(flat[j]), tonumber(flat[j + 1])
    if id < oldest then redis.call('HDEL', k, flat[j])
    else
      used = used + v
      buckets[#buckets + 1] = {id, v}
    end
  end
  table.sort(buckets, function(x, y) return x[1] < y[1] end)
  local reset = 0
  if #buckets > 0 then reset = (buckets[#buckets][1] + n + 1) * b - now end
  tok[i] = {used, reset}
  if used + s.est > limit then
    if s.est > limit then fail(2, i - 1, -1)
    else
      local left = used
      for _, bk in ipairs(buckets) do
        left = left - bk[2]
        if left + s.est <= limit then
          fail(2, i - 1, (bk[1] + n + 1) * b - now)
          break
        end
      end
    end
  end
end

local conc = {}
for i, c in ipairs(s.conc) do
  local k, limit = KEYS[c[1]], c[2]
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  local used = redis.call('ZCARD', k)
  conc[i] = used
  if used + 1 > limit then
    if limit <= 0 then fail(3, i - 1, -1) else fail(3, i - 1, INFLIGHT) end
  end
end

local reserved = {}
for i, r in ipairs(s.res) do
  local h, z = KEYS[r[1]], KEYS[r[2]]
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, id in ipairs(expired) do
    local amt = redis.call('HGET', h, id)
    if amt then
      redis.call('HDEL', h, id)
      redis.call('HINCRBY', h, '_sum', -tonumber(amt))
    end
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
  reserved[i] = tonumber(redis.call('HGET', h, '_sum') or '0')
end

local bud = {}
local cost = s.max
if cost < 0 then cost = 0 end
for i, c in ipairs(s.bud) do
  local spent = tonumber(redis.call('GET', KEYS[c[1]]) or '0')
  local limit, ends, res = c[2], c[3], reserved[c[4]]
  bud[i] = {spent, res}
  local over
  if s.max < 0 then over = spent + res >= limit else over = spent + res + cost > limit end
  if over then
    if cost > limit or limit == 0 then fail(4, i - 1, -1)
    else
      local out
      if s.max < 0 then out = spent >= limit else out = spent + cost > limit end
      if not out then fail(4, i - 1, INFLIGHT)
      elseif ends < 0 then fail(4, i - 1, -1)
      else fail(4, i - 1, math.max(1, ends - now)) end
    end
  end
end

if failKind == 0 and not s.dry then
  for _, c in ipairs(s.req) do
    redis.call('ZADD', KEYS[c[1]], now, s.id)
    redis.call('PEXPIRE', KEYS[c[1]], RW + 1000)
  end
  if s.est > 0 then
    for _, c in ipairs(s.tok) do
      redis.call('HINCRBY', KEYS[c[1]], math.floor(now / c[4]), s.est)
      redis.call('PEXPIRE', KEYS[c[1]], c[3] + 2 * c[4])
    end
  end
  for _, c in ipairs(s.conc) do
    redis.call('ZADD', KEYS[c[1]], now + s.lease, s.id)
    redis.call('PEXPIRE', KEYS[c[1]], s.lease)
  end
  if s.max > 0 then
    for _, r in ipairs(s.res) do
      redis.call('HSET', KEYS[r[1]], s.id, s.max)
      redis.call('HINCRBY', KEYS[r[1]], '_sum', s.max)
      redis.call('ZADD', KEYS[r[2]], now + s.rttl, s.id)
      redis.call('PEXPIRE', KEYS[r[1]], s.rttl)
      redis.call('PEXPIRE', KEYS[r[2]], s.rttl)
    end
  end
end
return {0, now, failKind, failIdx, failRetry, req, tok, conc, bud}
`;

/**
 * Settle. spec: { id, dt (actual - estimated tokens), tok: [[key, bucketField]], conc: [key],
 *   res: [[hashKey, zsetKey]], spend (micros), bud: [key] }
 * Buckets and budget windows that have expired are left alone: an expired budget window is
 * re-seeded from recorded usage, which includes this request.
 */
export const SETTLE_LUA = `
local s = cjson.decode(ARGV[1])
if s.dt ~= 0 then
  for _, t in ipairs(s.tok) do
    local k, f = KEYS[t[1]], t[2]
    if redis.call('HEXISTS', k, f) == 1 then
      local v = redis.call('HINCRBY', k, f, s.dt)
      if v <= 0 then redis.call('HDEL', k, f) end
    end
  end
end
for _, k in ipairs(s.conc) do redis.call('ZREM', KEYS[k], s.id) end
for _, r in ipairs(s.res) do
  local amt = redis.call('HGET', KEYS[r[1]], s.id)
  if amt then
    redis.call('HDEL', KEYS[r[1]], s.id)
    redis.call('HINCRBY', KEYS[r[1]], '_sum', -tonumber(amt))
    redis.call('ZREM', KEYS[r[2]], s.id)
  end
end
if s.spend > 0 then
  for _, k in ipairs(s.bud) do
    if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('INCRBY', KEYS[k], s.spend) end
  end
end
return 1
`;
