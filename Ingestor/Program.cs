using UserStream.Ingest;
using UserStream.Services.Ingestor;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapIngestEndpoints();

app.Run();
