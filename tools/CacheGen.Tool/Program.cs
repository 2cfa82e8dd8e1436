using CacheGen.Tool;

// cachegen regions | show <key> | watch | evict <region|tag>, against the Redis and prefix the app uses.
return await Cli.RunAsync(args, Console.Out, Console.Error);
