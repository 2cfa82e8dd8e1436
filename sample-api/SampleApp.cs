using System.Globalization;
using System.Text.Json.Serialization;
using CacheGen.SampleApi.Observability;

namespace CacheGen.SampleApi;

/// <summary>
/// The sample's entry points, shared by <c>Program</c> and the end-to-end tests (which start the same app on real
/// Kestrel with their own arguments).
/// </summary>
public static partial class SampleApp
{
    /// <summary>The largest <c>addpost</c> batch: enough for any load test, small enough to finish in seconds.</summary>
    public const int MaxAddPostCount = 1_000_000;

    /// <summary>
    /// The largest request body accepted (128 KiB): room for the longest valid post even with every character
    /// JSON-escaped, far below Kestrel's 30 MB default. A larger body is answered 413 before it is read.
    /// </summary>
    public const int MaxRequestBodyBytes = 128 * 1024;

    /// <summary>
    /// Runs the command line: <c>addpost N [config...]</c> bulk-inserts N posts and exits; anything else runs the
    /// web API until it is stopped. Returns the process exit code.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        if (args.Length > 0 && args[0] == "addpost")
            return await AddPostsAsync(args, stdout ?? Console.Out, stderr ?? Console.Error);
        await using WebApplication app = Build(args);
        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// Builds the web API without starting it. <paramref name="configure"/> runs before the app is built (tests add
    /// logger providers there).
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplicationBuilder builder = CreateBuilder(args);
        configure?.Invoke(builder);
        WebApplication app = builder.Build();

        PostStore store = app.Services.GetRequiredService<PostStore>();
        store.EnsureCreated();
        LogDatabase(app.Logger, store.DatabasePath);

        app.UseExceptionHandler();
        app.UseStatusCodePages(); // empty 4xx answers (unknown route, wrong method) become problem+json too
        app.MapOpenApi();
        app.MapPosts();
        app.MapObservability();
        return app;
    }

    private static WebApplicationBuilder CreateBuilder(string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        IServiceCollection services = builder.Services;

        // Binds the "CacheGen" section: CacheGen:Redis (null = in-process only) and CacheGen:KeyPrefix. Cached values
        // go through generated JSON code (CacheJsonContext), which trimming and Native AOT require.
        services.AddCacheGen(o => o.SerializerOptions = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)
        {
            TypeInfoResolver = CacheJsonContext.Default,
        });

        string database = Path.Combine(builder.Environment.ContentRootPath, builder.Configuration["Posts:Database"] ?? "posts.db");
        services.AddSingleton(new PostStore(database));
        services.AddSingleton<PostService>();
        // A service the app would not own, cached by a generated decorator instead of by editing it; the decorator
        // takes the place of the registration above it, with its lifetime.
        services.AddSingleton<IRelatedPosts, NearbyRelatedPosts>();
        services.AddCacheGenDecorator<IRelatedPosts, CachedRelatedPosts>();

        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Binding failures throw so BadRequestExceptionHandler can explain them; otherwise they are an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, SampleJsonContext.Default));
        services.AddOpenApi();
        builder.AddObservability();
        return builder;
    }

    private static async Task<int> AddPostsAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length < 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            || count < 1 || count > MaxAddPostCount)
        {
            await stderr.WriteLineAsync(
                $"usage: addpost N [--Posts:Database=FILE] [--CacheGen:Redis=CONFIG]   (N: a whole number from 1 to {MaxAddPostCount})"
                + (args.Length < 2 ? "" : $"; got '{args[1]}'"));
            return 2;
        }

        WebApplicationBuilder builder = CreateBuilder(args[2..]);
        // The command prints one line on stdout; logs go to stderr and only for trouble. PostConfigure, so the
        // "Logging" section of appsettings.json cannot turn Information back on.
        builder.Services.PostConfigure<LoggerFilterOptions>(o =>
        {
            o.Rules.Clear();
            o.MinLevel = LogLevel.Warning;
        });
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        await using WebApplication app = builder.Build();
        app.Services.GetRequiredService<PostStore>().EnsureCreated();

        // Through the service, so a list cached by a running API is evicted too. A large batch shows its progress on
        // stderr (stdout keeps its one line): redrawn in place on a terminal, a line per step otherwise.
        IProgress<int>? progress = count > PostStore.AddManyBatch ? new AddPostProgress(stderr, count) : null;
        int added = await app.Services.GetRequiredService<PostService>().AddManyAsync(count, progress);
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Successfully added {added} posts"));
        return 0;
    }

    /// <summary>"added 10,000 of 1,000,000 posts (1%)" after each batch, synchronously (not on a thread-pool callback).</summary>
    private sealed class AddPostProgress(TextWriter stderr, int count) : IProgress<int>
    {
        private readonly bool _terminal = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;

        public void Report(int value)
        {
            string line = string.Create(CultureInfo.InvariantCulture, $"added {value:N0} of {count:N0} posts ({100L * value / count}%)");
            if (_terminal)
                stderr.Write(value == count ? "\r" + line + Environment.NewLine : "\r" + line);
            else
                stderr.WriteLine(line);
        }
    }

    [LoggerMessage(EventId = 1, EventName = "Database", Level = LogLevel.Information, Message = "Posts are stored in SQLite file {Database}")]
    private static partial void LogDatabase(ILogger logger, string database);
}

[JsonSerializable(typeof(Post))]
[JsonSerializable(typeof(PostInput))]
[JsonSerializable(typeof(Dictionary<string, Post>))]
[JsonSerializable(typeof(RelatedPostList))]
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
internal sealed partial class SampleJsonContext : JsonSerializerContext;
