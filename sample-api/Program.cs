// `addpost N` bulk-inserts posts and exits; with no command this is the web API.
return await CacheGen.SampleApi.SampleApp.RunAsync(args);
