using UserStream.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

builder.AddUserStreamPipeline();

builder.Build().Run();
