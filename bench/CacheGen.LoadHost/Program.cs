using CacheGen.LoadHost;
using CacheGen.Redis;
using CacheGen.SampleApi;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

// The sample API as one load-test variant (bench/load/run.sh starts one process per variant):
//   --Bench:Variant=off|cachegen|cachegen-l1off|microsoft|fusion|outputcache|outputcache-redis|static  --Bench:Redis=HOST:PORT
//   --Bench:StaticBody=FILE (static only)  plus the sample's own settings (--Posts:Database=..., --urls=...).
// `addpost N ...` is passed to the sample unchanged (run.sh seeds through it).
if (args.Length > 0 && args[0] == "addpost")
    return await SampleApp.RunAsync(args);

string? variant = null;
await using WebApplication app = SampleApp.Build(args, builder =>
{
    // Runs after the sample's AddCacheGen, so the registration made here wins.
    IConfiguration config = builder.Configuration;
    variant = config["Bench:Variant"] ?? throw new ArgumentException("--Bench:Variant is required");
    string? redis = config["Bench:Redis"];
    IServiceCollection services = builder.Services;
    // The same lifetime everywhere: CacheGen's default (Django's TIMEOUT), so no variant expires more often.
    TimeSpan lifetime = TimeSpan.FromSeconds(300);
    switch (variant)
    {
        case "off":
        case "static": // the limit's process serves /posts/ too, uncached; only /static/ is measured there
            services.RemoveAll<HybridCache>();
            services.AddSingleton<HybridCache, PassThroughHybridCache>();
            break;
        case "cachegen":
            services.PostConfigure<CacheGenOptions>(o => o.Redis = Required(redis));
            break;
        case "cachegen-l1off":
            // A zero in-process lifetime: every hit is a Redis round trip (the cached payload bytes are written as read).
            services.PostConfigure<CacheGenOptions>(o => { o.Redis = Required(redis); o.LocalCacheExpiration = TimeSpan.Zero; });
            break;
        case "microsoft":
            services.RemoveAll<HybridCache>();
            services.AddStackExchangeRedisCache(o => { o.Configuration = Required(redis); o.InstanceName = "ms:"; });
            services.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions { Expiration = lifetime });
            break;
        case "fusion":
            services.RemoveAll<HybridCache>();
            services.AddFusionCache()
                .WithDefaultEntryOptions(new FusionCacheEntryOptions { Duration = lifetime })
                .WithSerializer(new FusionCacheSystemTextJsonSerializer())
                .WithDistributedCache(new Microsoft.Extensions.Caching.StackExchangeRedis.RedisCache(
                    new Microsoft.Extensions.Caching.StackExchangeRedis.RedisCacheOptions { Configuration = Required(redis), InstanceName = "fc:" }))
                .AsHybridCache();
            break;
        case "outputcache":
        case "outputcache-redis":
            // ASP.NET Core Output Caching as the peer: whole responses cached by the middleware, over the uncached sample.
            services.RemoveAll<HybridCache>();
            services.AddSingleton<HybridCache, PassThroughHybridCache>();
            services.AddOutputCache(o => o.AddBasePolicy(policy => policy.Expire(lifetime)));
            if (variant == "outputcache-redis")
                services.AddStackExchangeRedisOutputCache(o => { o.Configuration = Required(redis); o.InstanceName = "oc:"; });
            break;
        default:
            throw new ArgumentException($"unknown --Bench:Variant '{variant}'");
    }
});

// Minimal hosting runs this before the endpoints the sample mapped (routing first, endpoints last).
if (variant is "outputcache" or "outputcache-redis")
    app.UseOutputCache();

if (variant == "static")
{
    // The limit: the identical /posts/ body (captured by run.sh) from memory, through the same pipeline and routing.
    byte[] body = await File.ReadAllBytesAsync(app.Configuration["Bench:StaticBody"] ?? throw new ArgumentException("--Bench:StaticBody is required"));
    app.MapGet("/static/", async context =>
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = body.Length;
        await context.Response.BodyWriter.WriteAsync(body);
    });
}

// run.sh waits for this line to know the variant is serving with the cache it asked for.
app.Lifetime.ApplicationStarted.Register(() =>
    Console.WriteLine($"ready: {variant} on {app.Services.GetRequiredService<HybridCache>().GetType().FullName}"));
await app.RunAsync();
return 0;

static string Required(string? redis) => redis ?? throw new ArgumentException("--Bench:Redis is required for this variant");
